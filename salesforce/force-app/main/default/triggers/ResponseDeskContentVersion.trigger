/**
 * Marks every upload Pending, keeps holds on new versions of held files, keeps files on protected
 * records private until cleared, refuses to lift a hold without Response_Desk_Release, publishes
 * RD_File_Uploaded__e and queues the upload-time check.
 * Logic in ResponseDeskContentVersionHandler.
 */
trigger ResponseDeskContentVersion on ContentVersion (before insert, before update, after insert) {
    ResponseDeskContentVersionHandler.run(Trigger.operationType, Trigger.new, (Map<Id, ContentVersion>) Trigger.oldMap);
}
