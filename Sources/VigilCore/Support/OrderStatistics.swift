// Vigil: a self-hosted AIOps engine.
// SPDX-License-Identifier: Apache-2.0

/// Quantiles by selection rather than by sorting: a median and two quartiles of a thousand values in linear time,
/// where a sort of every column of an incident was most of ranking it.
enum OrderStatistics {
    /// The linear-interpolated `q` quantile of `values` (the same as sorting them first); reorders `values`,
    /// which must not be empty.
    static func quantile(_ q: Double, of values: inout [Double]) -> Double {
        values.withUnsafeMutableBufferPointer { Self.quantile(q, of: $0, within: 0..<$0.count) }
    }

    /// The lower quartile, median and upper quartile of `values` (not empty), as ``quantile(_:of:)`` gives each;
    /// the quartiles are selected within the halves the median's selection leaves.
    static func quartiles(of values: inout [Double]) -> (lower: Double, median: Double, upper: Double) {
        values.withUnsafeMutableBufferPointer { buffer in
            let count = buffer.count
            let median = Self.quantile(0.5, of: buffer, within: 0..<count)
            // After it, ranks up to the median's lie before it and ranks from it on lie after, which is all
            // each quartile needs (its rank and the next).
            let middle = Int(0.5 * Double(count - 1))
            let lower = Self.quantile(0.25, of: buffer, within: 0..<min(count, middle + 1))
            let upper = Self.quantile(0.75, of: buffer, within: middle..<count)
            return (lower, median, upper)
        }
    }

    /// The `q` quantile of all of `values`, selecting only inside `range`, which must hold the rank it selects
    /// (every value of a lower rank before the range, every higher one after it).
    private static func quantile(
        _ q: Double,
        of values: UnsafeMutableBufferPointer<Double>,
        within range: Range<Int>
    ) -> Double {
        let position = q * Double(values.count - 1)
        let lower = Int(position)
        let fraction = position - Double(lower)
        let part = UnsafeMutableBufferPointer(rebasing: values[range])
        let low = Self.select(lower - range.lowerBound, in: part)
        guard fraction > 0, lower + 1 < values.count else { return low }
        // Everything after `lower` (in the range by the selection, past it by the precondition) is at least `low`
        // now: the next order statistic is their least.
        var high = values[lower + 1]
        for index in (lower + 2)..<values.count where values[index] < high { high = values[index] }
        return low + (high - low) * fraction
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
