"""Decentralized federated methods (issue 14): DFedAvg, DFedSAM, DFedSAM-MGS, AFA-CD/CS, local SGD, MoDeST."""
