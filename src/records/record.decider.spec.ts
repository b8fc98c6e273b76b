import { randomUUID } from 'node:crypto';
import { deciderSpec } from '../../test/support/given-when-then.js';
import { decideRecord, evolveRecord, initialRecord, type CreateRecord, type RecordCreated } from './record.decider.js';
import type { RecordKind } from './record-kinds.js';

const { given } = deciderSpec({ decide: decideRecord, evolve: evolveRecord, initialState: initialRecord });

const EVENT_TYPE = { account: 'AccountCreated', contact: 'ContactCreated', opportunity: 'OpportunityCreated' } as const;
const DATA: Record<RecordKind, Record<string, unknown>> = {
  account: { name: 'Analytical Engines Ltd', website: null, telephone: '+44 20 7946 0000', primaryContactId: randomUUID() },
  contact: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@engines.example', parentAccountId: null },
  opportunity: { name: 'Espresso machines', customerId: randomUUID(), customerType: 'account', status: 'Open' },
};

/** A record of `kind` that one qualification of one lead creates. */
function aRecord(kind: RecordKind) {
  const id = randomUUID();
  const originatingLeadId = randomUUID();
  const create = (qualificationId: string = randomUUID()): CreateRecord => ({ kind, id, data: { ...DATA[kind], originatingLeadId, qualificationId } });
  const created = (command: CreateRecord): RecordCreated => ({ type: EVENT_TYPE[kind], data: { id, ...command.data } });
  return { id, create, created };
}

describe.each(['account', 'contact', 'opportunity'] as const)('%s', (kind) => {
  it(`given no ${kind}, when the saga creates it, then ${EVENT_TYPE[kind]} with its id, mapped fields, originating lead and qualification`, () => {
    const record = aRecord(kind);
    const command = record.create();
    given([])
      .when(command)
      .then([record.created(command)]);
  });

  it(`given the ${kind} created by this qualification, when created again (a redelivery), then nothing: already done`, () => {
    const record = aRecord(kind);
    const command = record.create();
    given([record.created(command)])
      .when(command)
      .then([]);
  });

  it(`given the ${kind} created by this qualification, when created again with other data, then still nothing: the first creation stands`, () => {
    const record = aRecord(kind);
    const command = record.create();
    given([record.created(command)])
      .when({ ...command, data: { ...command.data, name: 'changed since' } })
      .then([]);
  });

  it(`given the ${kind} created by another qualification, when this one creates it, then 409 RECORD_EXISTS`, () => {
    const record = aRecord(kind);
    const theirs = record.create();
    given([record.created(theirs)])
      .when(record.create())
      .thenThrows({ code: 'RECORD_EXISTS' });
  });
});

describe('evolveRecord', () => {
  it('keeps the first creation: a second creation event cannot change whose record it is', () => {
    const record = aRecord('account');
    const first = record.created(record.create());
    const second = record.created(record.create());
    const state = [first, second].reduce(evolveRecord, initialRecord);
    expect(state).toEqual({ exists: true, qualificationId: first.data.qualificationId, data: first.data });
    given([first, second]).when(record.create(second.data.qualificationId)).thenThrows({ code: 'RECORD_EXISTS' });
  });
});
