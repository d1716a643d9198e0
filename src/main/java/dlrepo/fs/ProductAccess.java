package dlrepo.fs;

/**
 * What the product tree needs to know of the caller's rights: a job joins a product branch
 * or version that other jobs already feed only if the caller may add to those jobs, or under
 * the version's {@code /products/...} URL (see {@link ProductTree}).
 */
@FunctionalInterface
public interface ProductAccess {
    /** Whether the caller may add under {@code urlPath}, a canonical URL path ending with '/'. */
    boolean mayAdd(String urlPath);

    /** No access control ({@code DLREPO_AUTH_DISABLED=1}). */
    ProductAccess ANYONE = path -> true;

    /**
     * Nobody in particular (start-up repairs): joins only where no other job feeds the
     * product branch, or where the job was linked before.
     */
    ProductAccess NOBODY = path -> false;
}
