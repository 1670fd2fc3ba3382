/**
 * Marks every upload Pending, keeps holds on new versions of held files, refuses to lift a
 * hold without Response_Desk_Release, and queues the upload-time check.
 * Logic in ResponseDeskContentVersionHandler.
 */
trigger ResponseDeskContentVersion on ContentVersion (before insert, before update, after insert) {
    if (Trigger.isBefore && Trigger.isInsert) {
        ResponseDeskContentVersionHandler.beforeInsert(Trigger.new);
    } else if (Trigger.isBefore && Trigger.isUpdate) {
        ResponseDeskContentVersionHandler.beforeUpdate(Trigger.new, (Map<Id, ContentVersion>) Trigger.oldMap);
    } else if (Trigger.isAfter && Trigger.isInsert) {
        ResponseDeskContentVersionHandler.afterInsert(Trigger.new);
    }
}
