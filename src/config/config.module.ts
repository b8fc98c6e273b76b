import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { CursorCodec } from '../http/pagination.js';
import { APP_CONFIG, type AppConfig } from './config.js';

@Global()
@Module({})
export class ConfigModule {
  /** The configuration and what derives from it alone; `extra`: providers every module may inject (createApp's test seams). */
  static forRoot(config: AppConfig, extra: Provider[] = []): DynamicModule {
    const providers = [{ provide: APP_CONFIG, useValue: config }, { provide: CursorCodec, useValue: new CursorCodec(config.jwtSecret) }, ...extra];
    return { module: ConfigModule, providers, exports: providers.map((p) => (p as { provide: unknown }).provide as string) };
  }
}
