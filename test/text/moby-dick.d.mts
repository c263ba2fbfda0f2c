/** Path of the novel's text file inside the installed package. */
export function mobyDickPath(): string;
/** The whole novel as one string (chapters 1-135, each starting with "CHAPTER n. Title."). */
export function loadMobyDick(): string;
