import { v7 as uuidv7 } from 'uuid';
import { derivedRecordId } from './record-ids.js';

const KINDS = ['account', 'contact', 'opportunity'] as const;

describe('derivedRecordId', () => {
  it('keeps the UUIDv5 of "<qualificationId>/<kind>" for qualification ids that are not UUIDv7 (ids planned before stay as they were)', () => {
    expect(derivedRecordId('0b6f8f1e-3c3a-4c55-9a43-2f1f3f7d2c10', 'account')).toBe('fde79f1a-7229-5e72-8a6b-d272147b8e15');
  });

  it('gives a UUIDv7 qualification UUIDv8 ids that keep its 48-bit time, one per kind, the same every time', () => {
    const qualificationId = uuidv7();
    const ids = KINDS.map((kind) => derivedRecordId(qualificationId, kind));
    expect(KINDS.map((kind) => derivedRecordId(qualificationId, kind))).toEqual(ids);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(id.slice(0, 13)).toBe(qualificationId.slice(0, 13));
    }
  });

  it('orders the ids of later qualifications after those of earlier ones', () => {
    const earlier = uuidv7({ msecs: Date.parse('2026-01-01T00:00:00Z') });
    const later = uuidv7({ msecs: Date.parse('2026-01-01T00:00:00.001Z') });
    expect(derivedRecordId(earlier, 'opportunity') < derivedRecordId(later, 'account')).toBe(true);
  });
});
