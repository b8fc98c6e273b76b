import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AnalyticsModule } from './analytics/analytics.module.js';
import { AuthModule } from './auth/auth.module.js';
import { APP_CONFIG, type AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { dataSourceOptions, initializeDataSource } from './database/data-source.js';
import { DataverseModule } from './dataverse/dataverse.module.js';
import { UnknownMigrationError } from './database/migrate.js';
import { EVENT_STORE_WRAPPER, EventStoreModule, type EventStoreWrapper } from './event-store/event-store.module.js';
import { HealthModule } from './health/health.module.js';
import { CursorCodec } from './http/pagination.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { LoggerModule, type Params } from 'nestjs-pino';
import { LeadConversionModule } from './lead-conversion/lead-conversion.module.js';
import { LeadsModule } from './leads/leads.module.js';
import { ProjectionsModule } from './projections/projections.module.js';
import { QualifySettingModule } from './qualify-setting/qualify-setting.module.js';
import { RecordsModule } from './records/records.module.js';
import { UniquenessModule } from './uniqueness/uniqueness.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, wrapEventStore?: EventStoreWrapper): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, [
          { provide: CursorCodec, useValue: new CursorCodec(config.jwtSecret) },
          ...(wrapEventStore ? [{ provide: EVENT_STORE_WRAPPER, useValue: wrapEventStore }] : []),
        ]),
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig) => ({
            ...dataSourceOptions(c.database, []),
            autoLoadEntities: true,
            // A database newer than the code stays newer: stop at once, with the one line main.ts prints.
            toRetry: (error: unknown) => !(error instanceof UnknownMigrationError),
          }),
          // Pending migrations are applied before any module touches the database.
          dataSourceFactory: async (options) => initializeDataSource(options!),
        }),
        CqrsModule.forRoot(),
        LoggerModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (c: AppConfig): Params => ({
            pinoHttp: {
              level: c.logLevel,
              // Fastify already chose the request id (the X-Correlation-Id): log it as such.
              genReqId: (req) => String((req as { id?: string }).id),
              customAttributeKeys: { reqId: 'correlationId' },
              redact: ['req.headers.authorization'],
              // Requests are logged by Fastify's onResponse hook (http/request-log.ts), which knows the
              // route pattern and the authenticated user.
              autoLogging: false,
            },
          }),
        }),
        MetricsModule,
        AuthModule,
        EventStoreModule,
        HealthModule,
        LeadsModule,
        QualifySettingModule,
        ProjectionsModule,
        AnalyticsModule,
        RecordsModule,
        LeadConversionModule,
        UniquenessModule,
        DataverseModule,
      ],
    };
  }
}
