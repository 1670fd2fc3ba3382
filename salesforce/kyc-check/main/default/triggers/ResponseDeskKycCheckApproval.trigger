/**
 * A KYC check is not approved while one of its files is not cleared by Response Desk. Deployed
 * apart from force-app (sf project deploy start --source-dir kyc-check) because KYC_Check__c is the
 * firm's own object. For another protected object, copy this trigger with the object's name.
 */
trigger ResponseDeskKycCheckApproval on KYC_Check__c (before update) {
    ResponseDeskApprovalGuard.beforeUpdate(Trigger.new, Trigger.oldMap);
}
