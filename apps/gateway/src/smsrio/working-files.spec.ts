import { groupByFolder, jobIdOf } from './working-files.js';

const ID = '0f26ade5-ecc7-4f75-a034-545506c34a9b';

describe('working files of convert jobs', () => {
  it('belong to the job named by their folder', () => {
    expect(jobIdOf(`convert/${ID}/BACKUP.zip`)).toBe(ID);
    expect(jobIdOf(`convert/${ID.toUpperCase()}/csv/A.csv`)).toBe(ID);
    expect(jobIdOf('convert/stray.zip')).toBeUndefined();
    expect(jobIdOf('convert/not-a-job/x.zip')).toBeUndefined();
  });

  it('are listed by folder, names and sizes, as os.walk walked them', () => {
    const files = [
      { key: `convert/${ID}/csv/CNESHIST.csv`, size: 4_168 },
      { key: `convert/${ID}/BACKUP.zip`, size: 969_241_231 },
      { key: `convert/${ID}/csv/CFCES006.csv`, size: 5_169_479 },
    ];
    expect(groupByFolder(files, (bytes) => `${bytes} bytes`)).toEqual({
      [`convert/${ID}`]: [['BACKUP.zip', '969241231 bytes']],
      [`convert/${ID}/csv`]: [
        ['CFCES006.csv', '5169479 bytes'],
        ['CNESHIST.csv', '4168 bytes'],
      ],
    });
  });
});
