import { ConvertInputError } from '../../table-source.js';
import { gbakErrors, restoreError } from './firebird-restore.js';

describe('restoreError', () => {
  it('tells a backup cut short (gbak asks for the next volume, then gives up)', () => {
    const output = [
      'Done with volume #0, "/tmp/job-1/input/BACKUP.FBK"\tPress return to reopen that file, or type a new',
      '\tname followed by return to open a different file.  Name: ',
      '',
      'ERROR: Backup incomplete',
    ].join('\n');
    const error = restoreError(output, '/tmp/job-1/input/BACKUP.FBK', '/tmp/job-1/firebird/restored.fdb');
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toBe('this gbak backup is incomplete: the file ends before the backup does (a cut download or copy?); gbak said: Backup incomplete');
  });

  it('blames a damaged backup, in gbak words without the scratch paths', () => {
    const output = ['gbak: ERROR:expected data attribute in /tmp/job-1/input/BACKUP.FBK', 'gbak: ERROR:    Exiting before completion due to errors'].join('\n');
    const error = restoreError(output, '/tmp/job-1/input/BACKUP.FBK', '/tmp/job-1/firebird/restored.fdb');
    expect(error).toBeInstanceOf(ConvertInputError);
    expect(error.message).toBe('this gbak backup could not be restored (it is damaged): expected data attribute in BACKUP.FBK');
  });

  it('blames the server when gbak could not log in or connect', () => {
    const output = 'gbak: ERROR:Your user name and password are not defined. Ask your database administrator to set up a Firebird login.';
    const error = restoreError(output, '/a.fbk', '/b.fdb');
    expect(error).not.toBeInstanceOf(ConvertInputError);
    expect(error.message).toMatch(/^gbak could not reach the Firebird server: Your user name and password/);
  });
});

describe('gbakErrors', () => {
  it('falls back to the last lines when gbak printed no error line', () => {
    expect(gbakErrors('Segmentation fault\n')).toBe('Segmentation fault');
  });
});
