"""Training: the one loop and everything it runs, from DMF's epoch of blocks to DMF-D's phases.

- `train`: `fit()`, DMF's and DMF-D's training (`BlockTask`, an epoch of user × item blocks);
- `step`: one optimizer step on one block (its cosines, the hidden targets, the loss through G for DMF-D);
- `loop`: the one training loop, with named parts (task, callbacks) that own their state;
- `phases`: what each epoch trains (DMF's one phase; DMF-D's warm-up, then the quantizer);
- `stopping`: early stopping (also the model selection), the time budget, the stop flag, the divergence guard;
- `epochs`: epochs of minibatches for the baselines and the companion;
- `derive`: the settings that follow the data's shape (block sizes, steps per epoch);
- `estimate`: an epoch's time and the companion's memory, measured before training starts;
- `calibration`: the cosine's weight for users and items the branches never trained on;
- `companion`: the optional I-AutoRec blended with DMF in area I;
- `autorec`: AutoRec's training, for the companion and the reproduction's baselines;
- `playground`: a 3-d DMF on the Playground's small matrix, every epoch's sphere recorded, new rows scored.

Imports the model and scoring layers; never runs, the library or the command line.
"""
