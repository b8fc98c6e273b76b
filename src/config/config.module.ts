import { Global, Module, type DynamicModule, type Provider } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from './config.js';

@Global()
@Module({})
export class ConfigModule {
  /**
   * The configuration, and `extra`: providers every module may inject that derive from it alone
   * (the cursor codec) or are createApp's test seams. They come from the caller because what
   * derives from the configuration lives in the folders above this one, which it must not import.
   */
  static forRoot(config: AppConfig, extra: Provider[] = []): DynamicModule {
    const providers = [{ provide: APP_CONFIG, useValue: config }, ...extra];
    return { module: ConfigModule, providers, exports: providers.map((p) => (p as { provide: unknown }).provide as string) };
  }
}
