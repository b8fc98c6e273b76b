import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiSecurity } from '@nestjs/swagger';

export const IS_PUBLIC = 'auth:public';
/**
 * Open without a token: health, metrics and the API docs only (docs/api.md, Authentication and
 * roles). The OpenAPI document
 * says so with an empty security requirement (no credentials needed).
 */
export const Public = () => applyDecorators(SetMetadata(IS_PUBLIC, true), ApiSecurity({}));
