import { ApiProperty } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUrl, MaxLength, MinLength } from 'class-validator';
import { GEO_FORMATS, type GeoFormat } from '#shared';

/** `POST /geopreview`: import a portal resource's GIS file into PostGIS and describe it. */
export class CreateGeopreviewDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  datasetId!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  resourceId!: string;

  @ApiProperty({ description: "http(s) URL of the file (storage:// URIs are for geojobs' own subtasks)" })
  @IsString()
  @MaxLength(4_000)
  url!: string;

  @ApiProperty({ required: false, enum: GEO_FORMATS })
  @IsOptional()
  @IsIn(GEO_FORMATS)
  format?: GeoFormat;

  @ApiProperty({ required: false, description: 'the finished job is POSTed here' })
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  @MaxLength(2_000)
  callbackUrl?: string;
}

/** HDX's add-layer query: what its portal puts in the URL template. */
export class HdxAddLayerQuery {
  @IsOptional()
  @IsString()
  resource_download_url?: string;

  /** `upload` (a file stored by the portal) or `api`/`link`; informational, as in HDX. */
  @IsOptional()
  @IsString()
  url_type?: string;

  /** The portal's API key (read by the auth guard). */
  @IsOptional()
  @IsString()
  key?: string;
}
