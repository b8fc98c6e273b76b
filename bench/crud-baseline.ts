/**
 * CRUD baseline: what a team would write without event sourcing. A plain NestJS 12 application on
 * Fastify with TypeORM entities for leads, accounts, contacts and opportunities, and one endpoint
 * that qualifies a lead in ONE transaction: read the lead, check it is open, insert the account,
 * the contact and the opportunity, update the lead. Same request checks as the service (a
 * Bearer JWT verified per request), same database and durability settings (SQLite WAL +
 * synchronous=NORMAL, one connection with transactions queued FIFO; PostgreSQL pool of 16).
 *
 * Run: DATABASE_URL=sqlite:/tmp/x.sqlite PORT=3001 JWT_SECRET=… node --import tsx bench/crud-baseline.ts
 *
 * tsx (esbuild) does not emit decorator metadata: every constructor parameter has an explicit
 * @Inject token and every column an explicit type.
 */
import 'reflect-metadata';
import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import {
  Body,
  CanActivate,
  ConflictException,
  Controller,
  ExecutionContext,
  Get,
  HttpCode,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  Post,
  Req,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { JwtModule, JwtService } from '@nestjs/jwt';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { InjectDataSource, TypeOrmModule } from '@nestjs/typeorm';
import type { FastifyRequest } from 'fastify';
import { Column, DataSource, Entity, Index, PrimaryColumn, type EntityManager } from 'typeorm';
import { errorText } from '../src/shared/error-text.js';

import { CrudBaselineSchema1795996800000 } from './crud-baseline-schema.js';
const DATABASE_URL = process.env.DATABASE_URL ?? 'sqlite:/tmp/crud-baseline.sqlite';
const SQLITE = DATABASE_URL.startsWith('sqlite:');
const JWT_SECRET = process.env.JWT_SECRET ?? 'bench-secret';

@Entity('leads')
@Index('ix_leads_status_created', ['status', 'createdAt', 'id'])
@Index('ix_leads_source_created', ['leadSource', 'createdAt', 'id'])
@Index('ix_leads_email', ['email'])
export class Lead {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) topic: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'varchar', length: 100 }) lastName: string;
  @Column({ name: 'job_title', type: 'varchar', length: 100, nullable: true }) jobTitle: string | null;
  @Column({ name: 'company_name', type: 'varchar', length: 160, nullable: true }) companyName: string | null;
  @Column({ type: 'varchar', length: 254, nullable: true }) email: string | null;
  @Column({ name: 'business_phone', type: 'varchar', length: 50, nullable: true }) businessPhone: string | null;
  @Column({ name: 'mobile_phone', type: 'varchar', length: 50, nullable: true }) mobilePhone: string | null;
  @Column({ type: 'varchar', length: 200, nullable: true }) website: string | null;
  @Column({ type: 'varchar', length: 250, nullable: true }) street: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) city: string | null;
  @Column({ name: 'state_or_province', type: 'varchar', length: 50, nullable: true }) stateOrProvince: string | null;
  @Column({ name: 'postal_code', type: 'varchar', length: 20, nullable: true }) postalCode: string | null;
  @Column({ type: 'varchar', length: 80, nullable: true }) country: string | null;
  @Column({ name: 'lead_source', type: 'varchar', length: 30, nullable: true }) leadSource: string | null;
  @Column({ type: 'varchar', length: 10, nullable: true }) rating: string | null;
  @Column({ name: 'budget_amount', type: 'float', nullable: true }) budgetAmount: number | null;
  @Column({ name: 'estimated_value', type: 'float', nullable: true }) estimatedValue: number | null;
  @Column({ name: 'purchase_timeframe', type: 'varchar', length: 20, nullable: true }) purchaseTimeframe: string | null;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ type: 'varchar', length: 15 }) status: string;
  @Column({ name: 'status_reason', type: 'varchar', length: 20 }) statusReason: string;
  @Column({ type: 'integer', default: 0 }) version: number;
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
  @Column({ name: 'updated_at', type: 'varchar', length: 30 }) updatedAt: string;
  @Column({ name: 'qualified_at', type: 'varchar', length: 30, nullable: true }) qualifiedAt: string | null;
  @Column({ name: 'qualified_by', type: 'varchar', length: 100, nullable: true }) qualifiedBy: string | null;
  @Column({ name: 'account_id', type: 'varchar', length: 36, nullable: true }) accountId: string | null;
  @Column({ name: 'contact_id', type: 'varchar', length: 36, nullable: true }) contactId: string | null;
  @Column({ name: 'opportunity_id', type: 'varchar', length: 36, nullable: true }) opportunityId: string | null;
}

@Entity('accounts')
@Index('ix_accounts_lead', ['originatingLeadId'])
@Index('ix_accounts_name_key', ['nameKey'])
export class Account {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 160 }) name: string;
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
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
}

@Entity('contacts')
@Index('ix_contacts_lead', ['originatingLeadId'])
@Index('ix_contacts_email_key', ['emailKey'])
export class Contact {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ name: 'first_name', type: 'varchar', length: 100, nullable: true }) firstName: string | null;
  @Column({ name: 'last_name', type: 'varchar', length: 100 }) lastName: string;
  @Column({ name: 'job_title', type: 'varchar', length: 100, nullable: true }) jobTitle: string | null;
  @Column({ type: 'varchar', length: 254, nullable: true }) email: string | null;
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
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
}

@Entity('opportunities')
@Index('ix_opportunities_lead', ['originatingLeadId'])
export class Opportunity {
  @PrimaryColumn({ type: 'varchar', length: 36 }) id: string;
  @Column({ type: 'varchar', length: 200 }) name: string;
  @Column({ name: 'customer_id', type: 'varchar', length: 36, nullable: true }) customerId: string | null;
  @Column({ name: 'customer_type', type: 'varchar', length: 10, nullable: true }) customerType: string | null;
  @Column({ name: 'parent_account_id', type: 'varchar', length: 36, nullable: true }) parentAccountId: string | null;
  @Column({ name: 'parent_contact_id', type: 'varchar', length: 36, nullable: true }) parentContactId: string | null;
  @Column({ name: 'budget_amount', type: 'float', nullable: true }) budgetAmount: number | null;
  @Column({ name: 'estimated_value', type: 'float', nullable: true }) estimatedValue: number | null;
  @Column({ name: 'purchase_timeframe', type: 'varchar', length: 20, nullable: true }) purchaseTimeframe: string | null;
  @Column({ type: 'text', nullable: true }) description: string | null;
  @Column({ type: 'varchar', length: 10 }) status: string;
  @Column({ name: 'originating_lead_id', type: 'varchar', length: 36 }) originatingLeadId: string;
  @Column({ name: 'created_at', type: 'varchar', length: 30 }) createdAt: string;
}

const ENTITIES = [Lead, Account, Contact, Opportunity];
/** Tables from a migration, as in the service (crud-baseline-schema.ts). */
const SCHEMA = { synchronize: false, migrations: [CrudBaselineSchema1795996800000], migrationsRun: true };

/** Transactions as src/database/database.ts runs them: FIFO-queued BEGIN IMMEDIATE on SQLite. */
@Injectable()
export class Transactions {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  run<T>(fn: (m: EntityManager) => Promise<T>): Promise<T> {
    if (!SQLITE) return this.dataSource.transaction('READ COMMITTED', fn);
    const work = async () => {
      const runner = this.dataSource.createQueryRunner();
      await runner.query('BEGIN IMMEDIATE');
      (runner as unknown as { isTransactionActive: boolean }).isTransactionActive = true;
      try {
        const result = await fn(runner.manager);
        await runner.query('COMMIT');
        return result;
      } catch (error) {
        await runner.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        (runner as unknown as { isTransactionActive: boolean }).isTransactionActive = false;
        await runner.release();
      }
    };
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}

/**
 * Bearer HS256 JWT with sub and exp, checked as the service's guard checks it — including its
 * secret as a KeyObject made once (given a string, jsonwebtoken tries to parse it as a PEM public
 * key on every request and throws: measured at 17 % of this baseline's CPU before this was done).
 */
@Injectable()
export class JwtGuard implements CanActivate {
  private readonly key: KeyObject = createSecretKey(Buffer.from(JWT_SECRET, 'utf8'));

  constructor(@Inject(JwtService) private readonly jwt: JwtService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest & { user?: { id: string; roles: string[] } }>();
    const match = /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(String(request.headers.authorization ?? '').trim());
    if (!match) throw new UnauthorizedException();
    try {
      const claims = await this.jwt.verifyAsync<{ sub?: unknown; exp?: unknown; roles?: string[] }>(match[1], {
        algorithms: ['HS256'],
        secret: this.key as unknown as string,
      });
      if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number') throw new Error('claims');
      request.user = { id: claims.sub, roles: claims.roles ?? [] };
    } catch {
      throw new UnauthorizedException();
    }
    return true;
  }
}

@Injectable()
export class LeadService {
  constructor(@Inject(Transactions) private readonly tx: Transactions) {}

  /** ONE transaction: lock/read the lead, insert account, contact, opportunity, update the lead. */
  qualify(id: string, userId: string) {
    return this.tx.run(async (m) => {
      const leads = m.getRepository(Lead);
      const lead = await leads.findOne({ where: { id }, ...(SQLITE ? {} : { lock: { mode: 'pessimistic_write' as const } }) });
      if (!lead) throw new NotFoundException(`lead ${id} does not exist`);
      if (lead.status !== 'Open') throw new ConflictException(`lead ${id} is ${lead.status}`);
      const now = new Date().toISOString();
      const accountId = randomUUID();
      const contactId = randomUUID();
      const opportunityId = randomUUID();
      const address = { street: lead.street, city: lead.city, stateOrProvince: lead.stateOrProvince, postalCode: lead.postalCode, country: lead.country };
      const name = (lead.companyName ?? lead.lastName).trim();
      await m.getRepository(Account).insert({
        id: accountId,
        name,
        nameKey: name.toLowerCase(),
        website: lead.website,
        telephone: lead.businessPhone,
        ...address,
        primaryContactId: contactId,
        originatingLeadId: id,
        createdAt: now,
      });
      await m.getRepository(Contact).insert({
        id: contactId,
        firstName: lead.firstName,
        lastName: lead.lastName,
        jobTitle: lead.jobTitle,
        email: lead.email,
        emailKey: lead.email?.toLowerCase() ?? null,
        businessPhone: lead.businessPhone,
        mobilePhone: lead.mobilePhone,
        ...address,
        parentAccountId: accountId,
        originatingLeadId: id,
        createdAt: now,
      });
      await m.getRepository(Opportunity).insert({
        id: opportunityId,
        name: lead.topic,
        customerId: accountId,
        customerType: 'account',
        parentAccountId: accountId,
        parentContactId: contactId,
        budgetAmount: lead.budgetAmount,
        estimatedValue: lead.estimatedValue,
        purchaseTimeframe: lead.purchaseTimeframe,
        description: lead.description,
        status: 'Open',
        originatingLeadId: id,
        createdAt: now,
      });
      await leads.update(
        { id },
        {
          status: 'Qualified',
          statusReason: 'Qualified',
          version: lead.version + 1,
          updatedAt: now,
          qualifiedAt: now,
          qualifiedBy: userId,
          accountId,
          contactId,
          opportunityId,
        },
      );
      return { leadId: id, accountId, contactId, opportunityId };
    });
  }

  /** Bench set-up only: inserts leads in bulk. */
  seed(rows: Partial<Lead>[]) {
    return this.tx.run(async (m) => {
      const now = new Date().toISOString();
      const full = rows.map((r) => ({ status: 'Open', statusReason: 'New', version: 0, createdAt: now, updatedAt: now, ...r }));
      for (let i = 0; i < full.length; i += 200) await m.getRepository(Lead).insert(full.slice(i, i + 200));
      return { inserted: full.length };
    });
  }
}

@Controller('crud')
export class CrudController {
  constructor(@Inject(LeadService) private readonly leads: LeadService) {}

  @Get('health')
  health() {
    return { ok: true };
  }

  @Post('seed')
  @HttpCode(201)
  seed(@Body() body: { leads: Partial<Lead>[] }) {
    return this.leads.seed(body.leads);
  }

  @Post('leads/:id/qualify')
  @HttpCode(202)
  @UseGuards(JwtGuard)
  qualify(@Param('id') id: string, @Req() request: { user: { id: string } }) {
    return this.leads.qualify(id, request.user.id);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot(
      SQLITE
        ? {
            type: 'better-sqlite3',
            database: DATABASE_URL.slice('sqlite:'.length),
            entities: ENTITIES,
            ...SCHEMA,
            enableWAL: true,
            timeout: 10_000,
            prepareDatabase: (db: { pragma(s: string): unknown }) => {
              db.pragma('synchronous = NORMAL');
              db.pragma('foreign_keys = ON');
            },
          }
        : { type: 'postgres', url: DATABASE_URL, entities: ENTITIES, ...SCHEMA, extra: { max: 16 } },
    ),
    JwtModule.register({ secret: JWT_SECRET }),
  ],
  controllers: [CrudController],
  providers: [Transactions, LeadService, JwtGuard],
})
export class CrudModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create<NestFastifyApplication>(CrudModule, new FastifyAdapter({ bodyLimit: 16 * 1024 * 1024 }), { logger: ['error', 'warn'] });
  app.enableShutdownHooks();
  await app.listen({ port: Number(process.env.PORT ?? 3001), host: process.env.HOST ?? '127.0.0.1' });
  console.log(`crud baseline listening on ${process.env.HOST ?? '127.0.0.1'}:${process.env.PORT ?? 3001} (${SQLITE ? 'sqlite' : 'postgres'})`);
}

main().catch((error: unknown) => {
  console.error(`crud baseline failed: ${errorText(error, 'stack')}`);
  process.exit(1);
});
