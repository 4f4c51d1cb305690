"""The networks and what they read: DMF's two branches and cosine output, DMF-D's quantizer, the sparse inputs and
the biases under them.

- `network`: `DMFNet`, two MLP branches (a sparse first layer over a rating row or column) and the cosine output,
  with an optional DMF-D quantizer head;
- `quantizer`: the hard Q_b and its smooth relaxation G_λ,b, the rating levels and the λ schedule;
- `inputs`: rating rows and columns kept sparse on the device, and the rating scale mapped to [-1, 1];
- `biases`: the global mean + user and item biases (the baseline beside every result, and the bias+cosine output);
- `autorec`: AutoRec's autoencoder, the network (a reproduction baseline and DMF's optional companion);
- `modes`: `evaluating(model)`, eval mode for a block and the model's own mode back after it.

Imports only the data layer and the top-level `config`: a model knows nothing of training or runs.
"""
