// The subcommands' flag parsing (node:util parseArgs underneath): the forms users type, and a
// clear UsageError for what it refuses.
import { expect } from 'chai';
import { parseCommandLine, UsageError } from '../../operator/cli/args.js';

const spec = { values: ['node', 'fail'], bools: ['help', 'no-report'], aliases: { n: 'node', h: 'help' } };

describe('parseCommandLine', () => {
  it('reads --flag value, --flag=value, -f value, booleans and positionals, keeping repeats in order', () => {
    const p = parseCommandLine(
      ['--node', 'a', '--fail=x/y', '-n', 'b', '--no-report', 'extra', '--fail', 'z'],
      spec,
    );
    expect(p.flags.get('node')).to.deep.equal(['a', 'b']);
    expect(p.flags.get('fail')).to.deep.equal(['x/y', 'z']);
    expect([...p.bools]).to.deep.equal(['no-report']);
    expect(p.positional).to.deep.equal(['extra']);
    expect(parseCommandLine(['-h'], spec).bools.has('help')).to.equal(true);
  });

  const refused: [string[], RegExp][] = [
    [['--frobnicate'], /^unknown flag --frobnicate$/],
    [['-x'], /^unknown flag -x$/],
    [['--node'], /^flag --node needs a value$/],
    [['--help=yes'], /^flag --help takes no value$/],
    [['--node', '--help'], /^flag --node needs a value \(write --node=VALUE/],
  ];
  for (const [args, message] of refused) {
    it(`refuses ${args.join(' ')} with a UsageError`, () => {
      expect(() => parseCommandLine(args, spec))
        .to.throw(UsageError)
        .with.property('message')
        .that.matches(message);
    });
  }
});
