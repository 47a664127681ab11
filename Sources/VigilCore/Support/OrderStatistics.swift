// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Quantiles by selection rather than by sorting: a median and two quartiles of a thousand values in linear time,
/// where a sort of every column of an incident was most of ranking it.
enum OrderStatistics {
    /// The linear-interpolated `q` quantile of `values` (the same as sorting them first); reorders `values`,
    /// which must not be empty.
    static func quantile(_ q: Double, of values: inout [Double]) -> Double {
        let position = q * Double(values.count - 1)
        let lower = Int(position)
        let fraction = position - Double(lower)
        return values.withUnsafeMutableBufferPointer { buffer in
            let low = Self.select(lower, in: buffer)
            guard fraction > 0, lower + 1 < buffer.count else { return low }
            // Everything after `lower` is at least `low` now: the next order statistic is their least.
            var high = buffer[lower + 1]
            for index in (lower + 2)..<buffer.count where buffer[index] < high { high = buffer[index] }
            return low + (high - low) * fraction
        }
    }

    /// Moves the value of rank `k` to `k`, lesser ones before it and greater ones after it (Hoare's FIND), and
    /// returns it. NaNs end up anywhere but never loop forever.
    static func select(_ k: Int, in values: UnsafeMutableBufferPointer<Double>) -> Double {
        var low = 0
        var high = values.count - 1
        while low < high {
            let middle = low + (high - low) / 2
            // Median of three as the pivot, so sorted and reversed runs stay linear.
            if values[middle] < values[low] { values.swapAt(middle, low) }
            if values[high] < values[low] { values.swapAt(high, low) }
            if values[high] < values[middle] { values.swapAt(high, middle) }
            let pivot = values[middle]
            var i = low
            var j = high
            while i <= j {
                while i <= high && values[i] < pivot { i += 1 }
                while j >= low && pivot < values[j] { j -= 1 }
                if i <= j {
                    values.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if k <= j {
                high = j
            } else if k >= i {
                low = i
            } else {
                break
            }
        }
        return values[k]
    }
}
