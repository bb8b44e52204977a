import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseFilters } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, Roles } from '../auth/auth.decorators.js';
import type { Principal } from '../auth/principal.js';
import { ExportRequestDto } from './dto/export-request.dto.js';
import { SmsRioErrorFilter } from './smsrio.errors.js';
import { SmsRioService } from './smsrio.service.js';

/**
 * SMS-Rio's GDB export API (prefeitura-rio/jobs_rj_sms), same paths and JSON, so its clients work unchanged: log in
 * at `/token`, then `POST /export/`, poll `GET /check/{id}`. Cancelling is geojobs' `POST /jobs/{id}/cancel` (the
 * original had no way to cancel; `/check/` then says REVOKED).
 */
@ApiTags('smsrio')
@ApiBearerAuth()
@UseFilters(SmsRioErrorFilter)
@Controller()
export class SmsRioController {
  constructor(@Inject(SmsRioService) private readonly smsrio: SmsRioService) {}

  /** `{gcs_uri | uri, tables?, charset?}` → `{success: true, id}`. */
  @Post('export')
  @HttpCode(200)
  @ApiBody({ type: ExportRequestDto })
  submit(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.smsrio.submit(principal, body);
  }

  /** `{status: PENDING|PROGRESS|SUCCESS|FAILURE|REVOKED, result, task_id}`. */
  @Get('check/:id')
  check(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    return this.smsrio.check(principal, id);
  }

  /** The working files by folder: `{"convert/<id>": [["BACKUP.zip", "924.34 MB"]]}`. */
  @Get('list')
  list(@CurrentPrincipal() principal: Principal) {
    return this.smsrio.list(principal);
  }

  /** Removes finished exports' working files; 409 while any export runs. A GET, as the original's clients call it. */
  @Get('clear')
  @Roles('admin')
  clear() {
    return this.smsrio.clear();
  }
}
