import { SetMetadata } from '@nestjs/common';

export const ROLES = ['admin', 'salesperson', 'analyst'] as const;
export type Role = (typeof ROLES)[number];

export const REQUIRED_ROLES = 'auth:roles';
/** Roles allowed on a route; `admin` may do everything and is always allowed. */
export const Roles = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);

/** Shorthands for the roles table of docs/api.md (Authentication and roles). */
export const CanCommand = () => Roles('salesperson');
export const CanRead = () => Roles('salesperson', 'analyst');
export const AdminOnly = () => Roles('admin');
