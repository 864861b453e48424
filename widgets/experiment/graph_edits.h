#pragma once

#include "data/dataset.h"
#include "model/network_graph.h"
#include "spec/spec.h"

#include <QString>

#include <optional>

namespace tunelab {

// The graph editor's edits as changes of a ModelSpec: each returns the new spec, or nothing (and a
// reason in `why`) when the edit makes no sense. The editor pushes the result as one undo command.
// Layers are indexes into model.layers; NetworkGraph::kNetworkInput (-1) is the network's input.
namespace GraphEdits {

// The name that `inputs` use for the layer, giving it a new unique one ("conv2d_3") when it has
// none; "input" for the network's input.
std::string ensureName(ModelSpec& model, int layer);

// `to` reads `from`: a merge layer (add, concat, multiply) gets it as one more input, any other
// layer reads it instead of what it read.
std::optional<ModelSpec> connect(const ModelSpec& model, int from, int to, QString* why = nullptr);

// `to` stops reading `from`. A layer's only input cannot go: the spec has no layer without one.
std::optional<ModelSpec> disconnect(const ModelSpec& model, int from, int to, QString* why = nullptr);

// Removes the layer; what read it reads what it read (its first input, for a merge).
std::optional<ModelSpec> removeLayer(const ModelSpec& model, int layer, QString* why = nullptr);

// Gives the layer a new name, and every layer that reads it by that name (or by the name of the block
// instance it ends) reads it by the new one. Refused: an empty name, one that is not a layer name
// (letters, digits and _ - . /), "input", a name another layer or instance has, and a name that
// would change what another layer reads. No change refuses with an empty `why`.
std::optional<ModelSpec> renameLayer(const ModelSpec& model, int layer, const std::string& name,
                                     QString* why = nullptr);

// The layer reads `inputs` (empty: the layer written before it). Refused, with the engine's own
// message: a name that is no layer, the layer itself, several inputs for a layer that is not a merge,
// and a cycle. No change refuses with an empty `why`.
std::optional<ModelSpec> setInputs(const ModelSpec& model, int layer, const std::vector<std::string>& inputs,
                                   QString* why = nullptr);

// Adds `layer` reading `after` (-1: the network's input). When `after` feeds exactly one layer, the
// new layer goes into that connection (insertOnEdge); otherwise it is written after `after` and
// what read `after` keeps reading it. After the last layer it is the new output. `index` receives
// where the new layer is written.
std::optional<ModelSpec> insertAfter(const ModelSpec& model, const LayerSpec& layer, int after,
                                     QString* why = nullptr, int* index = nullptr);
// Puts `layer` into the connection from `from` to `to`: it reads `from`, and `to` reads it in that
// input's place. It is written just before `to`, inside `to`'s block instance when `from` is too.
std::optional<ModelSpec> insertOnEdge(const ModelSpec& model, const LayerSpec& layer, int from, int to,
                                      QString* why = nullptr, int* index = nullptr);

// The palette's blocks, as named layers: "Residual block", "Bottleneck".
QStringList blockNames();
// Inserts the block after `after` (-1: at the start), reading it, its last layer read by what read
// `after` through the written order; `shape` is what `after` outputs (channels or features).
std::optional<ModelSpec> insertBlock(const ModelSpec& model, const QString& block, int after,
                                     const Shape& shape, QString* why = nullptr);

} // namespace GraphEdits

} // namespace tunelab
