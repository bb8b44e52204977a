import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { PackagesService, type BoundarySearch } from './packages.service.js';

/** Boundaries, processors and the packages made so far. Package jobs are `package.build` jobs (POST /jobs). */
@ApiTags('packages')
@ApiBearerAuth()
@Controller()
export class PackagesController {
  constructor(@Inject(PackagesService) private readonly packages: PackagesService) {}

  @Get('boundaries')
  boundaries() {
    return this.packages.boundaries();
  }

  /** `?name=` (case-insensitive, partial) or `?latitude=&longitude=` (the boundaries containing the point). */
  @Get('boundaries/search')
  search(@Query() query: BoundarySearch) {
    return this.packages.search(query);
  }

  @Get('boundaries/:name')
  boundary(@Param('name') name: string) {
    return this.packages.boundary(name);
  }

  @Get('processors')
  processors() {
    return this.packages.processors();
  }

  @Get('processors/:name')
  processor(@Param('name') name: string) {
    return this.packages.processor(name);
  }

  @Get('processors/:name/:version')
  processorVersion(@Param('name') name: string, @Param('version') version: string) {
    return this.packages.processorVersion(name, version);
  }

  @Get('packages')
  packagesList() {
    return this.packages.packagesList();
  }

  @Get('packages/:boundary')
  package(@Param('boundary') boundary: string) {
    return this.packages.package(boundary);
  }
}
