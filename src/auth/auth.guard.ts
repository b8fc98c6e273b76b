import { createSecretKey, type KeyObject } from 'node:crypto';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../config/config.js';
import { Reflector } from '@nestjs/core';
import { JwtService } from '@nestjs/jwt';
import type { FastifyRequest } from 'fastify';
import { DomainError } from '../shared/domain-error.js';
import { IS_PUBLIC } from './public.decorator.js';
import { REQUIRED_ROLES, type Role } from './roles.decorator.js';

export interface AuthenticatedUser {
  id: string;
  roles: string[];
}

/** A request this guard let through carries its caller. */
export type AuthenticatedRequest = FastifyRequest & { user?: AuthenticatedUser };

/**
 * Bearer JWT (HS256, JWT_SECRET) on every route that is not @Public(), verified by @nestjs/jwt.
 * A route without @Roles() is admin-only: forgetting the decorator must close a route, not open it.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  /**
   * The secret as a KeyObject, made once: given a string, jsonwebtoken first tries to parse it as
   * a PEM public key on every request and throws, which cost more than the rest of the request.
   */
  private readonly key: KeyObject;

  constructor(
    private readonly jwt: JwtService,
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.key = createSecretKey(Buffer.from(config.jwtSecret, 'utf8'));
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const user = await this.authenticate(request.headers.authorization);
    request.user = user;
    const allowed = this.reflector.getAllAndOverride<Role[]>(REQUIRED_ROLES, targets) ?? [];
    if (!user.roles.includes('admin') && !allowed.some((role) => user.roles.includes(role))) {
      throw new DomainError('FORBIDDEN', `this request needs one of the roles: ${[...new Set(['admin', ...allowed])].join(', ')}`);
    }
    return true;
  }

  private async authenticate(header: unknown): Promise<AuthenticatedUser> {
    const match = typeof header === 'string' ? /^Bearer ([A-Za-z0-9_\-.]+)$/.exec(header.trim()) : null;
    if (!match) throw new DomainError('UNAUTHORIZED', 'an Authorization: Bearer <token> header is required');
    let claims: { sub?: unknown; roles?: unknown };
    try {
      claims = await this.jwt.verifyAsync(match[1], { algorithms: ['HS256'], secret: this.key as unknown as string });
    } catch (error) {
      throw new DomainError('UNAUTHORIZED', `the token was rejected: ${(error as Error).message}`);
    }
    // The sub is who the events say acted: a blank one would attribute them to no one.
    if (typeof claims.sub !== 'string' || !claims.sub.trim()) throw new DomainError('UNAUTHORIZED', 'the token has no sub claim');
    // A token that never expires cannot be taken back: exp is required (docs/api.md, Authentication
    // and roles), and must be a time: 1e309 parses as Infinity, which the JWT library compares as
    // "later than now".
    if (!Number.isSafeInteger((claims as { exp?: unknown }).exp))
      throw new DomainError('UNAUTHORIZED', 'the token has no exp claim, or one that is not a whole number of seconds');
    const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
    return { id: claims.sub, roles };
  }
}
