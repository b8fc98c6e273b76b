import { Body, Controller, Get, Headers, Inject, Put, Query, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiOperation, ApiProperty, ApiSchema, ApiTags } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { AdminOnly, CanRead } from '../auth/roles.decorator.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { ApiResponseHeaders, ETAG_HEADER as VERSION_ETAG } from '../http/api-headers.js';
import { ApiProblems } from '../http/api-problems.decorator.js';
import { parseIfMatch, versionETag } from '../http/params.js';
import { ReadQueryDto } from '../http/read-query.dto.js';
import { Ctx } from '../http/request-context.js';
import { ReadsProjections } from '../projections/reads-projections.js';
import type { CommandContext } from '../shared/command-context.js';
import { readSettingInForce, UpdateQualifyLeadSetting, type SettingResult } from './qualify-lead-setting.commands.js';

export class UpdateSettingDto {
  @ApiProperty({ description: 'Create Account, Contact, and Opportunity records by default upon qualifying a lead', example: false })
  @IsBoolean()
  createRecordsByDefault: boolean;
}

@ApiSchema({ name: 'Setting' })
export class SettingDto {
  @ApiProperty() createRecordsByDefault: boolean;
  @ApiProperty({ type: 'integer', minimum: 0, description: 'number of changes so far; 0 before the first' }) version: number;
  @ApiProperty({ type: String, nullable: true, format: 'date-time' }) updatedAt: string | null;
  @ApiProperty({ type: String, nullable: true }) updatedBy: string | null;
}

@ApiSchema({ name: 'SettingChanged' })
export class SettingChangedDto extends SettingDto {
  @ApiProperty({ description: "global log position of the change (of the stream's last event when nothing changed); pass as minPosition to read your write" })
  position: string;
}

const view = ({ createRecordsByDefault, version, updatedAt, updatedBy }: SettingResult): SettingDto => ({
  createRecordsByDefault,
  version,
  updatedAt,
  updatedBy,
});

const ETAG_HEADER = VERSION_ETAG('setting', 'PUT');

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
  @ApiResponseHeaders(200, ETAG_HEADER)
  @ApiProblems(400, 401, 403)
  async get(@Query() _q: ReadQueryDto, @Res({ passthrough: true }) reply: FastifyReply): Promise<SettingDto> {
    const setting = await readSettingInForce(this.store);
    reply.header('ETag', versionETag(setting.version));
    return view(setting);
  }

  @Put()
  @AdminOnly()
  @ApiOperation({ summary: 'Change the setting (System Administrator). Setting the current value changes nothing.' })
  @ApiHeader({
    name: 'If-Match',
    required: false,
    description:
      'the version the administrator edited (3, "3" or W/"3"); 412 VERSION_MISMATCH with currentVersion when the setting is at another version, and nothing is changed',
  })
  @ApiOkResponse({ type: SettingChangedDto })
  @ApiResponseHeaders(200, ETAG_HEADER)
  @ApiProblems(400, 401, 403, 409, 412)
  async put(
    @Body() body: UpdateSettingDto,
    @Headers('if-match') ifMatch: string | undefined,
    @Ctx() ctx: CommandContext,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<SettingChangedDto> {
    const expectedVersion = parseIfMatch(ifMatch, 'setting');
    const result = await this.commands.execute(new UpdateQualifyLeadSetting(body.createRecordsByDefault, ctx, expectedVersion));
    reply.header('ETag', versionETag(result.version));
    return { ...view(result), position: result.position };
  }
}
