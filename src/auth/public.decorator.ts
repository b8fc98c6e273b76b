import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'auth:public';
/** Open without a token: health, metrics and the API docs only (SPEC §2). */
export const Public = () => SetMetadata(IS_PUBLIC, true);
