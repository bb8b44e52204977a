import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Controller, Get, NotFoundException, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { NoRateLimit, Public } from '../auth/auth.decorators.js';
import { UI_DIST_DIR, uiFileFor } from './ui-assets.js';

const ROOT = fileURLToPath(UI_DIST_DIR);

/**
 * The dashboard: the files of its Vite build, public (they hold no data; the app logs in and every API call it makes
 * needs the token). Its pages are the app's own routes, so any other path under /ui is its index.html.
 */
@ApiExcludeController()
@Public()
@NoRateLimit()
@Controller('ui')
export class UiController {
  @Get()
  index(@Req() request: Request, @Res() response: Response): void {
    // `/ui` → `/ui/`, so the bundles' relative addresses resolve under /ui/
    if (!request.originalUrl.split('?')[0].endsWith('/')) return response.redirect(301, '/ui/');
    this.send('/', response);
  }

  @Get('{*path}')
  asset(@Req() request: Request, @Res() response: Response): void {
    this.send(request.path.replace(/^\/ui/, ''), response);
  }

  private send(path: string, response: Response): void {
    if (!existsSync(join(ROOT, 'index.html'))) throw new NotFoundException('the dashboard is not built: run `npm run setup` (or scripts/build-ui.sh)');
    const { file, cacheControl } = uiFileFor(path, (candidate) => existsSync(join(ROOT, candidate)));
    response.sendFile(file, { root: ROOT, headers: { 'cache-control': cacheControl }, cacheControl: false, dotfiles: 'deny' });
  }
}
