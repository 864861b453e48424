"""The command line that the layout checks share:

    SCRIPT SOURCE_DIR      check the tree; exit 1 and print each problem
    SCRIPT --self-test     check that the checker catches what it must
"""
import sys


def run_check(doc, check, self_test, failure_summary, success_line, argv=None):
    """Runs `check(source_dir)` (a list of problems) or `self_test()` as argv asks; returns the exit
    code. `failure_summary(count)` is the last line printed when there are problems."""
    args = sys.argv[1:] if argv is None else argv
    if args == ['--self-test']:
        self_test()
        return 0
    if len(args) != 1:
        print(doc, file=sys.stderr)
        return 2
    problems = check(args[0])
    for problem in problems:
        print(problem)
    if problems:
        print(failure_summary(len(problems)))
        return 1
    print(success_line)
    return 0
