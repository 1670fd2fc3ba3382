/**
 * Stops automations and users from attaching held files to customer records.
 * ContentDocumentLink supports no validation rules; the logic is in
 * ResponseDeskQuarantineGuardHandler.
 */
trigger ResponseDeskQuarantineGuard on ContentDocumentLink (before insert) {
    ResponseDeskQuarantineGuardHandler.beforeInsert(Trigger.new);
}
