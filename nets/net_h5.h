/* net_h5 — nets' weight I/O: a network's tensors and an optimizer's state in
 * HDF5 groups. The one header of nets/ that includes <hdf5.h>: code that only
 * computes includes nets/nets.h and never sees HDF5.
 *
 * Users: log/ckpt.c (an agent's networks in a checkpoint), log/rlog_write.c
 * (the layout attributes of a run log's /weights) and the nets tests.
 * Strings are variable-length UTF-8 as h5py writes them;
 * HDF5's automatic error printing is suspended around every call.
 *
 * Files: net_h5.c.
 */
#ifndef RQL_NET_H5_H
#define RQL_NET_H5_H

#include <hdf5.h>
#include "nets/nets.h"

/* ---- weights in HDF5 -------------------------------------------------------
 * One dataset per tensor in group g, named and shaped as in PyTorch, float32;
 * attributes on g: layer kinds, sizes and "gate_order" ("ifgo" / "rzn").
 * Loading refuses a group whose names or shapes differ from the network.
 * Attributes written: format "rql-net", input_size (int), layer_kinds
 * ("dense,lstm,dense"), layer_units (int[L]), layer_acts ("none,-,relu"),
 * learn_h0 (int[L]), gate_order (recurrent layers in order, comma-joined:
 * "ifgo" lstm, "rzn" gru, "h" rnn); each recurrent weight dataset also has a
 * gate_order attribute. Saving into a group that already holds the tensors
 * overwrites them in place (same shapes required). Loading checks every name
 * and shape first (NETS_ESHAPE names the tensor and both shapes; a dataset
 * the network lacks is refused too; sub-groups are ignored) and leaves the
 * network untouched when it refuses. */
int net_save_h5(const net *n, hid_t g);
/* The architecture attributes alone (what net_save_h5 writes on g after the
 * tensors), for a group whose datasets hold the tensors some other way: the
 * run log's /weights, one row per snapshot. */
int net_save_h5_attrs(const net *n, hid_t g);
int net_load_h5(net *n, hid_t g);

/* An optimizer's state in a group of its own, so that training continues
 * bit-exactly after a load: datasets "m" and "v" [n] float32 (those the optimizer has), attributes
 * kind ("sgd" / "rmsprop" / "adam"), n, t (steps taken) and, for reading
 * only, the hyperparameters. Loading restores t, m and v (the
 * hyperparameters stay as configured) and refuses another kind or size. */
int optim_save_h5(const optim *o, hid_t g);
int optim_load_h5(optim *o, hid_t g);

#endif
