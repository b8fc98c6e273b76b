import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** Every change of the qualify-lead setting, one row per version (≥ 1). */
@Entity('qualify_setting_history')
@Index('ix_qualify_setting_history_changed', ['changedAt'])
export class SettingHistoryRow {
  @PrimaryColumn({ type: 'integer' }) version: number;
  @Column({ name: 'create_records_by_default', type: 'boolean' }) createRecordsByDefault: boolean;
  @Column({ name: 'previous_value', type: 'boolean' }) previousValue: boolean;
  @Column({ name: 'changed_by', type: 'varchar', length: 100 }) changedBy: string;
  @Column({ name: 'changed_at', type: 'varchar', length: 30 }) changedAt: string;
  @Column({ type: 'varchar', length: 40 }) position: string;
}
