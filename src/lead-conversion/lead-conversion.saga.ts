import type { LeadFields, LeadQualified } from '../leads/lead.events.js';
import type { CreateRecord } from '../records/record.decider.js';

export interface ConversionSteps {
  /** The records to create, in order: account, contact, opportunity (those the plan creates). */
  creates: CreateRecord[];
  /** What LeadConversionCompleted records once every create is done. */
  completed: { leadId: string; qualificationId: string; accountId: string | null; contactId: string | null; opportunityId: string | null };
}

/**
 * The lead conversion saga's decision, as a pure function of the LeadQualified event: exactly the
 * records its plan names, with the ids the plan gave them, mapped from the lead as it was when
 * qualified (docs/events.md, Record events). The setting in force now plays no part: the plan already recorded it.
 */
export function conversionSteps(qualified: LeadQualified['data']): ConversionSteps {
  const { plan, qualificationId, leadId } = qualified;
  const lead: LeadFields = qualified.lead;
  const accountId = plan.account.action === 'none' ? null : plan.account.id;
  const contactId = plan.contact.action === 'none' ? null : plan.contact.id;
  const opportunityId = plan.opportunity.action === 'none' ? null : plan.opportunity.id;
  const origin = { originatingLeadId: leadId, qualificationId };
  const address = {
    street: lead.street ?? null,
    city: lead.city ?? null,
    stateOrProvince: lead.stateOrProvince ?? null,
    postalCode: lead.postalCode ?? null,
    country: lead.country ?? null,
  };
  const creates: CreateRecord[] = [];

  if (plan.account.action === 'create') {
    creates.push({
      kind: 'account',
      id: plan.account.id,
      data: {
        name: lead.companyName!.trim(),
        website: lead.website ?? null,
        telephone: lead.businessPhone ?? null,
        ...address,
        primaryContactId: contactId,
        ...origin,
      },
    });
  }
  if (plan.contact.action === 'create') {
    creates.push({
      kind: 'contact',
      id: plan.contact.id,
      data: {
        firstName: lead.firstName ?? null,
        lastName: lead.lastName,
        jobTitle: lead.jobTitle ?? null,
        email: lead.email ?? null,
        businessPhone: lead.businessPhone ?? null,
        mobilePhone: lead.mobilePhone ?? null,
        ...address,
        parentAccountId: accountId,
        ...origin,
      },
    });
  }
  if (plan.opportunity.action === 'create') {
    // The customer asked for at qualification, whatever the plan links or creates; else the plan's.
    const customer = qualified.opportunityCustomerId
      ? { customerId: qualified.opportunityCustomerId, customerType: qualified.opportunityCustomerType ?? null }
      : { customerId: accountId ?? contactId, customerType: accountId ? 'account' : contactId ? 'contact' : null };
    creates.push({
      kind: 'opportunity',
      id: plan.opportunity.id,
      data: {
        name: lead.topic,
        ...customer,
        parentAccountId: accountId,
        parentContactId: contactId,
        budgetAmount: lead.budgetAmount ?? null,
        estimatedValue: lead.estimatedValue ?? null,
        purchaseTimeframe: lead.purchaseTimeframe ?? null,
        description: lead.description ?? null,
        // Absent from qualifications before these options, and from those that did not give them.
        currencyId: qualified.opportunityCurrencyId ?? null,
        sourceCampaignId: qualified.sourceCampaignId ?? null,
        status: 'Open',
        ...origin,
      },
    });
  }
  return { creates, completed: { leadId, qualificationId, accountId, contactId, opportunityId } };
}
