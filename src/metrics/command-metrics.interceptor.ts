import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { tap, type Observable } from 'rxjs';
import { isDatabaseUnavailable } from '../database/availability.js';
import { DomainError } from '../shared/domain-error.js';
import { Metrics } from './metrics.service.js';

/** Counts and times every command route (non-GET routes of the command controllers). */
@Injectable()
export class CommandMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: Metrics) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (request.method === 'GET') return next.handle();
    const command = `${context.getClass().name.replace(/Controller$/, '')}.${context.getHandler().name}`;
    const stop = this.metrics.commandSeconds.startTimer({ command });
    return next.handle().pipe(
      tap({
        next: () => {
          stop();
          this.metrics.commands.inc({ command, outcome: 'ok' });
        },
        error: (error: unknown) => {
          stop();
          this.metrics.commands.inc({
            command,
            outcome: error instanceof DomainError ? error.code : isDatabaseUnavailable(error) ? 'DATABASE_UNAVAILABLE' : 'error',
          });
        },
      }),
    );
  }
}
