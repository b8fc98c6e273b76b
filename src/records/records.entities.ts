import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Read models of the records a qualification creates. docs/read-models.md lists the columns. */
@Entity('accounts')
@Index('ix_accounts_lead', ['originatingLeadId'])
@Index('ix_accounts_created', ['createdAt', 'id'])
// (name_key, id) in code point order (COLLATE "C" on PostgreSQL), which TypeORM cannot declare:
// the migration creates it, and TypeORM leaves it alone.
@Index('ix_accounts_name_search', { synchronize: false })
// The lookup filters (GET /accounts?primaryContactId=): one range scan in list order.
@Index('ix_accounts_primary_contact', ['primaryContactId', 'createdAt', 'id'])
export class AccountRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 160 }) name: string;
  /** Trimmed, inner white space collapsed, lower-cased name: the uniqueness and search key. */
  @Column({ name: 'name_key', type: 'varchar', length: 160 }) nameKey: string;
  @Column({ type: 'varchar', length: 200, nullable: true }) website: string | null;
  @Column({ type: 'varchar', length: 50, nullable: true }) telephone: string | null;
  @Column({ type: 'varchar', length: 250, nullable: true }) street: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) city: string | null;
  @Column({ name: 'state_or_province', type: 'varchar', length: 50, nullable: true }) stateOrProvince: string | null;
  @Column({ name: 'postal_code', type: 'varchar', length: 20, nullable: true }) postalCode: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) country: string | null;
  @Column({ name: 'primary_contact_id', type: 'varchar', length: 36, nullable: true }) primaryContactId: string | null;
  @Column({ name: 'originating_lead_id', type: 'varchar', length: 36 }) originatingLeadId: string;
  @Column({ name: 'qualification_id', type: 'varchar', length: 36 }) qualificationId: string;
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 40 }) position: string;
}

@Entity('contacts')
@Index('ix_contacts_lead', ['originatingLeadId'])
@Index('ix_contacts_created', ['createdAt', 'id'])
// The search keys' indexes, as ix_accounts_name_search.
@Index('ix_contacts_name_search', { synchronize: false })
@Index('ix_contacts_last_name_search', { synchronize: false })
@Index('ix_contacts_email_search', { synchronize: false })
// The lookup filter (GET /contacts?parentAccountId=), as ix_accounts_primary_contact.
@Index('ix_contacts_parent_account', ['parentAccountId', 'createdAt', 'id'])
export class ContactRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'varchar', length: 100 }) lastName: string;
  /** "first last", normalised as account names: a search key. */
  @Column({ name: 'name_key', type: 'varchar', length: 201, nullable: true }) nameKey: string | null;
  /** The last name, normalised as account names: a search key. */
  @Column({ name: 'last_name_key', type: 'varchar', length: 100, nullable: true }) lastNameKey: string | null;
  @Column({ name: 'job_title', type: 'varchar', length: 100, nullable: true }) jobTitle: string | null;
  @Column({ type: 'varchar', length: 254, nullable: true }) email: string | null;
  /** Trimmed, lower-cased e-mail: the uniqueness and search key. */
  @Column({ name: 'email_key', type: 'varchar', length: 254, nullable: true }) emailKey: string | null;
  @Column({ name: 'business_phone', type: 'varchar', length: 50, nullable: true }) businessPhone: string | null;
  @Column({ name: 'mobile_phone', type: 'varchar', length: 50, nullable: true }) mobilePhone: string | null;
  @Column({ type: 'varchar', length: 250, nullable: true }) street: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) city: string | null;
  @Column({ name: 'state_or_province', type: 'varchar', length: 50, nullable: true }) stateOrProvince: string | null;
  @Column({ name: 'postal_code', type: 'varchar', length: 20, nullable: true }) postalCode: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) country: string | null;
  @Column({ name: 'parent_account_id', type: 'varchar', length: 36, nullable: true }) parentAccountId: string | null;
  @Column({ name: 'originating_lead_id', type: 'varchar', length: 36 }) originatingLeadId: string;
  @Column({ name: 'qualification_id', type: 'varchar', length: 36 }) qualificationId: string;
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 40 }) position: string;
}

@Entity('opportunities')
@Index('ix_opportunities_lead', ['originatingLeadId'])
@Index('ix_opportunities_created', ['createdAt', 'id'])
// The lookup filters (GET /opportunities?customerId=&parentAccountId=&parentContactId=), as ix_accounts_primary_contact.
@Index('ix_opportunities_customer', ['customerId', 'createdAt', 'id'])
@Index('ix_opportunities_parent_account', ['parentAccountId', 'createdAt', 'id'])
@Index('ix_opportunities_parent_contact', ['parentContactId', 'createdAt', 'id'])
export class OpportunityRow {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
  @Column({ name: 'customer_id', type: 'varchar', length: 36, nullable: true }) customerId: string | null;
  /** account | contact */
  @Column({ name: 'customer_type', type: 'varchar', length: 10, nullable: true }) customerType: string | null;
  @Column({ name: 'parent_account_id', type: 'varchar', length: 36, nullable: true }) parentAccountId: string | null;
  @Column({ name: 'parent_contact_id', type: 'varchar', length: 36, nullable: true }) parentContactId: string | null;
  @Column({ name: 'budget_amount', type: 'float', nullable: true }) budgetAmount: number | null;
  @Column({ name: 'estimated_value', type: 'float', nullable: true }) estimatedValue: number | null;
  @Column({ name: 'purchase_timeframe', type: 'varchar', length: 20, nullable: true }) purchaseTimeframe: string | null;
  @Column({ type: 'text', nullable: true }) description: string | null;
  /** Given at qualification, unchecked (no currency or campaign records here); null before these options existed. */
  @Column({ name: 'currency_id', type: 'varchar', length: 36, nullable: true }) currencyId: string | null;
  @Column({ name: 'source_campaign_id', type: 'varchar', length: 36, nullable: true }) sourceCampaignId: string | null;
  @Column({ type: 'varchar', length: 10 }) status: string;
  @Column({ name: 'originating_lead_id', type: 'varchar', length: 36 }) originatingLeadId: string;
  @Column({ name: 'qualification_id', type: 'varchar', length: 36 }) qualificationId: string;
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
  @Column({ type: 'varchar', length: 40 }) position: string;
}
