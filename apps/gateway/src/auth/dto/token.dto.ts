import { ApiProperty } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMinSize, IsArray, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { ROLES, type Role } from '../principal.js';

export class LoginDto {
  @ApiProperty()
  @IsString()
  @MinLength(1)
  username!: string;

  @ApiProperty()
  @IsString()
  @MinLength(1)
  password!: string;
}

export class TemporaryTokenDto {
  @ApiProperty({ example: ['GET'] })
  @IsArray()
  @ArrayMinSize(1)
  @IsIn(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], { each: true })
  methods!: string[];

  @ApiProperty({ example: ['/jobs/6f1c…/result'] })
  @IsArray()
  @ArrayMinSize(1)
  @Matches(/^\//, { each: true, message: 'each path must start with /' })
  paths!: string[];

  @ApiProperty({ required: false, default: 600, description: 'lifetime in seconds, at most an hour' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(3_600)
  expiresIn?: number;
}

export class CreateUserDto {
  @ApiProperty()
  @IsString()
  @Matches(/^[A-Za-z0-9_.@-]{1,100}$/, { message: 'username may hold letters, digits and _.@- (at most 100)' })
  username!: string;

  @ApiProperty()
  @IsString()
  @MinLength(8)
  password!: string;

  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class CreateApiKeyDto {
  @ApiProperty({ example: 'hdx-portal' })
  @IsString()
  @MinLength(1)
  name!: string;

  @ApiProperty({ enum: ROLES, default: 'portal' })
  @IsOptional()
  @IsIn(ROLES)
  role?: Role;

  @ApiProperty({ required: false, description: 'whose jobs it submits and sees; defaults to the key name' })
  @IsOptional()
  @IsString()
  owner?: string;
}
