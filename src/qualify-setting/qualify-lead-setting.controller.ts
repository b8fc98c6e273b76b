import { Body, Controller, Get, Inject, Put, Query } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProperty, ApiTags } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import { AdminOnly, CanRead } from '../auth/roles.decorator.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { ApiProblems } from '../http/api-problems.decorator.js';
import { Ctx } from '../http/request-context.js';
import { ReadQueryDto } from '../leads/lead-details/lead-queries.dto.js';
import { ReadsProjections } from '../projections/reads-projections.js';
import type { CommandContext } from '../shared/command-context.js';
import { readSettingInForce, UpdateQualifyLeadSetting, type SettingResult } from './qualify-lead-setting.commands.js';

export class UpdateSettingDto {
  @ApiProperty({ description: 'Create Account, Contact, and Opportunity records by default upon qualifying a lead' })
  @IsBoolean()
  createRecordsByDefault: boolean;
}

export class SettingDto {
  @ApiProperty() createRecordsByDefault: boolean;
  @ApiProperty({ description: 'number of changes so far; 0 before the first' }) version: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) updatedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) updatedBy: string | null;
}

export class SettingChangedDto extends SettingDto {
  @ApiProperty() position: string;
}

const view = ({ createRecordsByDefault, version, updatedAt, updatedBy }: SettingResult): SettingDto => ({ createRecordsByDefault, version, updatedAt, updatedBy });

@ApiTags('settings')
@ApiBearerAuth()
@Controller('settings/qualify-lead')
export class QualifyLeadSettingController {
  constructor(
    private readonly commands: CommandBus,
    @Inject(EVENT_STORE) private readonly store: EventStore,
  ) {}

  @Get()
  // Read from the event store itself (no projection): always current; the header gives the head.
  @ReadsProjections()
  @CanRead()
  @ApiOperation({ summary: 'The qualify-lead setting in force (front-ends read it to decide whether to prompt)' })
  @ApiOkResponse({ type: SettingDto })
  @ApiProblems(401, 403)
  async get(@Query() _q: ReadQueryDto): Promise<SettingDto> {
    return view(await readSettingInForce(this.store));
  }

  @Put()
  @AdminOnly()
  @ApiOperation({ summary: 'Change the setting (System Administrator). Setting the current value changes nothing.' })
  @ApiOkResponse({ type: SettingChangedDto })
  @ApiProblems(400, 401, 403)
  async put(@Body() body: UpdateSettingDto, @Ctx() ctx: CommandContext): Promise<SettingChangedDto> {
    const result = await this.commands.execute(new UpdateQualifyLeadSetting(body.createRecordsByDefault, ctx));
    return { ...view(result), position: result.position };
  }
}
