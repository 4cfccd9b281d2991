"""Side-by-side benchmarks: clusterlab against its peers in the same process."""
