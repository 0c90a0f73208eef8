"""`python -m seqclf`, that says on stderr at exit how many training texts this process read for its batches
(under torchrun: its rank's share). Run as a script by tests/integration/test_distributed.py."""
import atexit
import os
import sys

from seqclf.training import member

read = 0
padded = member.pad_batch


def counting_pad_batch(corpus, indices, *args, **kwargs):
    global read
    read += len(indices)
    return padded(corpus, indices, *args, **kwargs)


member.pad_batch = counting_pad_batch
atexit.register(lambda: print(f"rank {os.environ.get('RANK', '0')} read {read} training texts", file=sys.stderr))

from seqclf.cli import main  # noqa: E402

sys.exit(main())
