import {
  Body,
  ConflictException,
  Controller,
  Delete,
  HttpCode,
  Inject,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  UnauthorizedException,
  UseGuards,
} from '@nestjs/common';
import { ApiBearerAuth, ApiConsumes, ApiTags } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import { CurrentPrincipal, Public, Roles } from './auth.decorators.js';
import { AuthService } from './auth.service.js';
import { CreateApiKeyDto, CreateUserDto, LoginDto, TemporaryTokenDto } from './dto/token.dto.js';
import type { Principal } from './principal.js';

@ApiTags('auth')
@Controller()
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  /** Username and password (form or JSON) for a bearer token. Rate-limited per client address. */
  @Public()
  @UseGuards(ThrottlerGuard)
  @Post('token')
  @HttpCode(200)
  @ApiConsumes('application/json', 'application/x-www-form-urlencoded')
  async token(@Body() body: LoginDto) {
    const token = await this.auth.login(body.username, body.password);
    if (!token) throw new UnauthorizedException('wrong username or password');
    return { status: 'SUCCESS', ...token };
  }

  /** A short-lived token limited to the given methods and path prefixes, sent as `Authorization: TmpToken <token>`. */
  @ApiBearerAuth()
  @Post('tokens/temporary')
  @HttpCode(200)
  temporary(@CurrentPrincipal() principal: Principal, @Body() body: TemporaryTokenDto) {
    return this.auth.mintTemporary(principal, { methods: body.methods, paths: body.paths }, body.expiresIn ?? 600);
  }

  @ApiBearerAuth()
  @Roles('admin')
  @Post('users')
  async createUser(@Body() body: CreateUserDto) {
    if (!(await this.auth.createUser(body.username, body.password, body.role))) {
      throw new ConflictException(`user ${body.username} exists already`);
    }
    return { username: body.username, role: body.role };
  }

  /** An API key for a service account (the portal); the key is shown once. */
  @ApiBearerAuth()
  @Roles('admin')
  @Post('api-keys')
  createApiKey(@Body() body: CreateApiKeyDto) {
    const role = body.role ?? 'portal';
    return this.auth.createApiKey(body.name, role, body.owner ?? body.name).then((created) => ({ ...created, name: body.name, role }));
  }

  /** Revokes an API key at once: every request with it is a 401 from then on. */
  @ApiBearerAuth()
  @Roles('admin')
  @Delete('api-keys/:id')
  @HttpCode(204)
  async revokeApiKey(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    if (!(await this.auth.revokeApiKey(id))) throw new NotFoundException(`no API key ${id} (or it is revoked already)`);
  }
}
