"""Reading data, as the command line and the server do and as users may: files of every format (CSV, TSV,
JSONL, fastText) into a `Dataset` of texts and labels, and the texts to predict from files, standard
input or arguments, each bad row kept as a `BadRow` (file, line, problem) rather than lost. The readers
live in `seqclf.data`; this is their public face, so the faces need nothing below the public layer."""
from seqclf.data.formats import BadRow
from seqclf.data.inputs import input_from_argument, iter_inputs, read_inputs
from seqclf.data.readers import Dataset, read_dataset
from seqclf.data.streams import ReadProgress

__all__ = ["BadRow", "Dataset", "ReadProgress", "input_from_argument", "iter_inputs", "read_dataset", "read_inputs"]
