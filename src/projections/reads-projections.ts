import { applyDecorators, Injectable, SetMetadata, UseInterceptors, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiQuery, ApiResponse } from '@nestjs/swagger';
import { from, switchMap, type Observable } from 'rxjs';
import { ApiResponseHeaders, PROJECTION_POSITION_HEADER } from '../http/api-headers.js';
import { problemResponse } from '../http/api-problems.decorator.js';
import { DomainError } from '../shared/domain-error.js';
import { ProjectionGate } from './projection-gate.js';

const PROJECTIONS = 'reads:projections';

@Injectable()
export class ProjectionPositionInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly gate: ProjectionGate,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const names = this.reflector.get<string[]>(PROJECTIONS, context.getHandler()) ?? [];
    const request = context.switchToHttp().getRequest<FastifyRequest<{ Querystring: { minPosition?: unknown } }>>();
    const reply = context.switchToHttp().getResponse<FastifyReply>();
    const raw = request.query?.minPosition;
    if (raw !== undefined && (typeof raw !== 'string' || !/^\d{1,20}$/.test(raw))) {
      throw new DomainError('VALIDATION_FAILED', 'minPosition must be a position (a decimal number)', {
        errors: [{ field: 'minPosition', message: 'must be a decimal number' }],
      });
    }
    return from(this.gate.ready(names, raw)).pipe(
      switchMap((position) => {
        reply.header('X-Projection-Position', position);
        return next.handle();
      }),
    );
  }
}

/**
 * Marks a query route as reading these projections: it honours ?minPosition=, answers 503
 * PROJECTION_BEHIND / PROJECTION_REBUILDING, and sets X-Projection-Position.
 */
export const ReadsProjections = (...names: string[]) =>
  applyDecorators(
    SetMetadata(PROJECTIONS, names),
    UseInterceptors(ProjectionPositionInterceptor),
    ApiQuery({ name: 'minPosition', required: false, description: 'wait (≤ 5 s) until the answer includes this position (from a command response)' }),
    ApiResponseHeaders(200, PROJECTION_POSITION_HEADER),
    ApiResponse({ status: 503, ...problemResponse(503, 'PROJECTION_BEHIND or PROJECTION_REBUILDING (with Retry-After), or DATABASE_UNAVAILABLE') }),
  );
