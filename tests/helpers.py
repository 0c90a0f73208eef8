"""Shared test settings."""

# Small and quick: enough to exercise every stage, not to be accurate.
TINY = dict(max_len=12, embed_dim=16, hidden_dim=12, epochs=2, batch_size=32, bidirectional=False, pooling="last")
