import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from '../auth/auth.decorators.js';
import { CkanService } from './ckan.service.js';

/**
 * CKAN's service-provider protocol (as DataPusher-style plugins speak it), so a portal plugin can point its
 * service URL at geojobs. Its own credentials: the body's api_key to submit, the job_key to read.
 */
@ApiTags('ckan')
@Public()
@Controller('job')
export class CkanController {
  constructor(@Inject(CkanService) private readonly ckan: CkanService) {}

  @Post()
  @HttpCode(200)
  submit(@Body() body: unknown) {
    return this.ckan.submit(body);
  }

  @Get(':id')
  status(@Param('id') id: string, @Headers('authorization') jobKey: string | undefined) {
    return this.ckan.status(id, jobKey);
  }
}
