/**
 * Stops automations and users from attaching held files to customer records, and keeps a file
 * that Response Desk has not cleared private on records once it is attached to a record of a
 * protected object. ContentDocumentLink supports no validation rules; the logic is in
 * ResponseDeskQuarantineGuardHandler.
 */
trigger ResponseDeskQuarantineGuard on ContentDocumentLink (before insert, after insert) {
    ResponseDeskQuarantineGuardHandler.run(Trigger.operationType, Trigger.new);
}
