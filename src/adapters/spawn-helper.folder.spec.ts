import { helperFolderParent, helperSocketFits, SOCKET_PATH_MAX } from './spawn-helper.folder';

describe("helperFolderParent (where the spawn helper's socket folder goes)", () => {
  const unsafe = '/tmp/ww is writable by group or others without the sticky bit (mode 777)';

  it('the temp folder when no other user may rename what is in it', () => {
    expect(helperFolderParent({ tempFolder: '/tmp', tempProblem: undefined, stateFolder: '/run/sc' })).toEqual({
      parent: '/tmp',
    });
  });

  it('the state folder when the temp folder lets another user swap the socket folder, saying why', () => {
    expect(helperFolderParent({ tempFolder: '/tmp/ww', tempProblem: unsafe, stateFolder: '/run/sc' })).toEqual({
      parent: '/run/sc',
      note:
        "the temp folder /tmp/ww (TMPDIR) is not safe for the spawn helper's socket: " +
        `${unsafe}; it goes in the state folder /run/sc instead`,
    });
  });

  it('none without a state folder: refused, naming TMPDIR and why', () => {
    expect(helperFolderParent({ tempFolder: '/tmp/ww', tempProblem: unsafe, stateFolder: undefined })).toEqual({
      refused:
        "the temp folder /tmp/ww (TMPDIR) is not safe for the spawn helper's socket: " +
        `${unsafe}, and there is no state folder (SC_STATE_DIR) to use instead`,
    });
  });

  it('a folder whose socket path would not fit in sun_path is passed over', () => {
    const fits = `/${'a'.repeat(SOCKET_PATH_MAX - '/sc-launch-XXXXXX/output.sock'.length - 1)}`;
    expect(helperSocketFits(fits)).toBe(true);
    expect(helperSocketFits(`${fits}b`)).toBe(false);
    expect(helperSocketFits(`/${'é'.repeat(40)}`)).toBe(false); // bytes, not characters
    const long = `/tmp/${'t'.repeat(90)}`;
    expect(helperFolderParent({ tempFolder: long, tempProblem: undefined, stateFolder: '/run/sc' })).toMatchObject({
      parent: '/run/sc',
    });
    expect(helperFolderParent({ tempFolder: '/tmp/ww', tempProblem: unsafe, stateFolder: long })).toEqual({
      refused: expect.stringMatching(/, and the state folder \/tmp\/t+ is too long a path for it too$/),
    });
  });
});
