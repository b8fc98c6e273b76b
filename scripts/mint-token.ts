/**
 * Mints a development token: npm run token -- --role admin --sub alice [--ttl 8h]
 * Signs with JWT_SECRET, or the development default the service also uses when it is unset.
 */
import { parseArgs } from 'node:util';
import { JwtService, type JwtSignOptions } from '@nestjs/jwt';
import { DEV_JWT_SECRET } from '../src/config/config.js';
import { ROLES } from '../src/auth/roles.decorator.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', multiple: true, default: ['salesperson'] },
    sub: { type: 'string', default: 'dev-user' },
    ttl: { type: 'string', default: '8h' },
  },
});
const roles = values.role.flatMap((r) => r.split(','));
const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
if (unknown.length) {
  console.error(`unknown role(s): ${unknown.join(', ')} (known: ${ROLES.join(', ')})`);
  process.exit(2);
}
const jwt = new JwtService({ secret: process.env.JWT_SECRET || DEV_JWT_SECRET });
// A duration as jsonwebtoken reads it (8h, 30m, 7d): it refuses one it cannot.
console.log(jwt.sign({ sub: values.sub, roles }, { algorithm: 'HS256', expiresIn: values.ttl as JwtSignOptions['expiresIn'] }));
