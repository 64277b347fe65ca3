// Every module (nn/modules/*.h) and the initialisers, in one include.
#pragma once

#include "nn/init.h"
#include "nn/modules/activation.h"
#include "nn/modules/batch_norm.h"
#include "nn/modules/conv2d.h"
#include "nn/modules/dropout.h"
#include "nn/modules/layer_norm.h"
#include "nn/modules/linear.h"
#include "nn/modules/module.h"
#include "nn/modules/pool.h"
#include "nn/modules/sequential.h"
