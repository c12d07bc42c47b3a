"""Two text classifiers as a PyTorch user writes them: an embedding, a 2-layer bidirectional
batch-first LSTM (resp. a GRU) and a linear head over the last layer's final states (resp.
the mean over time of the outputs).

The ports follow the torch code line for line; where torch calls a torch function, the
port calls its NumPy name (``torch.cat`` -> ``np.concatenate``, ``output.mean(dim=1)`` ->
``output.mean(axis=1)``).
"""

import numpy as np
import pytest

from jitcore import nn

from _zoo import check_model, inputs_from_seed

VOCAB, EMBED, HIDDEN, CLASSES = 50, 16, 24, 4


class LSTMClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes, num_layers=2,
                 dropout=0.3):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                            bidirectional=True, dropout=dropout)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(hidden_dim * 2, num_classes)

    def forward(self, text):
        embedded = self.embedding(text)
        output, (hidden, cell) = self.lstm(embedded)
        # the last layer's final forward and backward states
        hidden = np.concatenate((hidden[-2], hidden[-1]), axis=1)
        return self.fc(self.dropout(hidden))


class GRUClassifier(nn.Module):
    def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes, num_layers=2):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.gru = nn.GRU(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                          bidirectional=True)
        self.fc = nn.Linear(hidden_dim * 2, num_classes)

    def forward(self, text):
        embedded = self.embedding(text)
        output, hidden = self.gru(embedded)
        pooled = output.mean(axis=1)
        return self.fc(pooled)


def torch_lstm_classifier():
    import torch
    import torch.nn as tnn

    class TorchLSTMClassifier(tnn.Module):
        def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes, num_layers=2,
                     dropout=0.3):
            super().__init__()
            self.embedding = tnn.Embedding(vocab_size, embed_dim, padding_idx=0)
            self.lstm = tnn.LSTM(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                                 bidirectional=True, dropout=dropout)
            self.dropout = tnn.Dropout(dropout)
            self.fc = tnn.Linear(hidden_dim * 2, num_classes)

        def forward(self, text):
            embedded = self.embedding(text)
            output, (hidden, cell) = self.lstm(embedded)
            hidden = torch.cat((hidden[-2], hidden[-1]), dim=1)
            return self.fc(self.dropout(hidden))

    return TorchLSTMClassifier(VOCAB, EMBED, HIDDEN, CLASSES)


def torch_gru_classifier():
    import torch.nn as tnn

    class TorchGRUClassifier(tnn.Module):
        def __init__(self, vocab_size, embed_dim, hidden_dim, num_classes, num_layers=2):
            super().__init__()
            self.embedding = tnn.Embedding(vocab_size, embed_dim)
            self.gru = tnn.GRU(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                               bidirectional=True)
            self.fc = tnn.Linear(hidden_dim * 2, num_classes)

        def forward(self, text):
            embedded = self.embedding(text)
            output, hidden = self.gru(embedded)
            pooled = output.mean(dim=1)
            return self.fc(pooled)

    return TorchGRUClassifier(VOCAB, EMBED, HIDDEN, CLASSES)


def _tokens():
    return inputs_from_seed([((3, 12), ("int64", VOCAB))])


CASES = [
    dict(name="lstm_classifier", make_port=lambda: LSTMClassifier(VOCAB, EMBED, HIDDEN, CLASSES),
         make_torch_model=torch_lstm_classifier, inputs=_tokens),
    dict(name="gru_classifier", make_port=lambda: GRUClassifier(VOCAB, EMBED, HIDDEN, CLASSES),
         make_torch_model=torch_gru_classifier, inputs=_tokens),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_model(case, tmp_path):
    check_model(case, tmp_path)
