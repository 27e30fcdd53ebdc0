"""Semi-supervised disentanglement (Locatello et al., ICLR 2020): few labels, S2-VAEs, labellers."""
