import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC = 'geojobs:public';

/** The route needs no credential (health, login, public tiles); everything else does. */
export const Public = () => SetMetadata(IS_PUBLIC, true);
