import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { CommandContext } from '../shared/command-context.js';
import type { AuthenticatedRequest, AuthenticatedUser } from '../auth/auth.guard.js';

/**
 * The command context of this request: the caller (from the verified token) and the correlation
 * id (X-Correlation-Id, or the request id Fastify generated from it) that ties the request's
 * events and log lines together.
 */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): CommandContext => {
  const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
  const user = request.user as AuthenticatedUser;
  return { userId: user.id, correlationId: String(request.id), causationId: String(request.id), now: new Date() };
});
