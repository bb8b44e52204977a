import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/auth.decorators.js';
import { FileListingDto, ListFilesQuery } from './dto/list-files.dto.js';
import { FilesService } from './files.service.js';

@ApiTags('operations')
@ApiBearerAuth()
@Controller('files')
export class FilesController {
  constructor(@Inject(FilesService) private readonly files: FilesService) {}

  /** The objects in storage with their sizes (bytes and human), in key order; admins only. */
  @Get()
  @Roles('admin')
  @ApiOkResponse({ type: FileListingDto })
  list(@Query() query: ListFilesQuery): Promise<FileListingDto> {
    return this.files.list(query);
  }
}
