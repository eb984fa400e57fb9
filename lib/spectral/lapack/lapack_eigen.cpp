#include "lib/spectral/lapack/lapack_eigen.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <string>
#include <vector>

#include "sharding/errors.h"

// Fortran LAPACK entry points. Character arguments carry hidden length
// arguments at the end (gfortran ABI); passing them explicitly keeps calls from
// C++ well defined with modern gfortran-built LAPACKs.
extern "C" {
void dsytrd_(const char* uplo, const int* n, double* a, const int* lda, double* d, double* e, double* tau,
             double* work, const int* lwork, int* info, std::size_t uplo_len);
void dsterf_(const int* n, double* d, double* e, int* info);
void dstemr_(const char* jobz, const char* range, const int* n, double* d, double* e, const double* vl,
             const double* vu, const int* il, const int* iu, int* m, double* w, double* z, const int* ldz,
             const int* nzc, int* isuppz, int* tryrac, double* work, const int* lwork, int* iwork,
             const int* liwork, int* info, std::size_t jobz_len, std::size_t range_len);
void dormtr_(const char* side, const char* uplo, const char* trans, const int* m, const int* n, const double* a,
             const int* lda, const double* tau, double* c, const int* ldc, double* work, const int* lwork,
             int* info, std::size_t side_len, std::size_t uplo_len, std::size_t trans_len);
}

namespace revive::spectral::lapack {
namespace {

void lapack_check_info(int info, const char* routine) {
  if (info != 0) {
    throw Error(std::string("lapack::top_eigenpairs: ") + routine + " failed with info = " + std::to_string(info));
  }
}

int lapack_work_size(double query) { return std::max(1, static_cast<int>(query)); }

}  // namespace

std::pair<at::Tensor, at::Tensor> top_eigenpairs(const at::Tensor& sym, const ChooseRank& choose_rank) {
  REVIVE_CHECK(sym.dim() == 2 && sym.size(0) == sym.size(1), "lapack::top_eigenpairs: expected a square matrix");
  REVIVE_CHECK(sym.device().is_cpu() && sym.scalar_type() == at::kDouble,
               "lapack::top_eigenpairs: expected an f64 CPU tensor");
  REVIVE_CHECK(sym.size(0) <= 46340, "lapack::top_eigenpairs: n too large for 32-bit LAPACK indices");
  const int n = static_cast<int>(sym.size(0));
  if (n == 0) return {at::empty({0}, sym.options()), at::empty({0, 0}, sym.options())};
  // Row-major symmetric == column-major symmetric; dsytrd overwrites its copy.
  at::Tensor a = sym.contiguous().clone();
  std::vector<double> d(n), e(n), tau(std::max(1, n - 1));
  int info = 0, lwork = -1;
  double query = 0;
  const char lower = 'L';
  dsytrd_(&lower, &n, a.data_ptr<double>(), &n, d.data(), e.data(), tau.data(), &query, &lwork, &info, 1);
  lapack_check_info(info, "dsytrd (workspace query)");
  std::vector<double> work(lapack_work_size(query));
  lwork = static_cast<int>(work.size());
  dsytrd_(&lower, &n, a.data_ptr<double>(), &n, d.data(), e.data(), tau.data(), work.data(), &lwork, &info, 1);
  lapack_check_info(info, "dsytrd");

  // Every eigenvalue (ascending) from copies of the tridiagonal, then k.
  std::vector<double> values(d), off(e);
  dsterf_(&n, values.data(), off.data(), &info);
  lapack_check_info(info, "dsterf");
  at::Tensor all_desc = at::from_blob(values.data(), {n}, at::kDouble).flip(0).clone();
  const int64_t k64 = choose_rank(all_desc);
  REVIVE_CHECK(k64 >= 1 && k64 <= n, "lapack::top_eigenpairs: rank " + std::to_string(k64) + " outside [1, " +
                                         std::to_string(n) + "]");
  const int k = static_cast<int>(k64);
  REVIVE_CHECK(static_cast<int64_t>(n) * k <= INT_MAX, "lapack::top_eigenpairs: n x k too large for LAPACK");

  // Eigenvectors of the tridiagonal for indices n-k+1..n (ascending order).
  const char jobz = 'V', range = 'I';
  const int il = n - k + 1, iu = n;
  const double vl = 0, vu = 0;
  int found = 0, tryrac = 1, liwork = -1, iquery = 0;
  std::vector<double> w(n);
  at::Tensor z = at::empty({k, n}, sym.options());  // column-major n x k
  std::vector<int> isuppz(2 * static_cast<std::size_t>(k));
  lwork = -1;
  dstemr_(&jobz, &range, &n, d.data(), e.data(), &vl, &vu, &il, &iu, &found, w.data(), z.data_ptr<double>(), &n,
          &k, isuppz.data(), &tryrac, &query, &lwork, &iquery, &liwork, &info, 1, 1);
  lapack_check_info(info, "dstemr (workspace query)");
  work.assign(lapack_work_size(query), 0.0);
  std::vector<int> iwork(std::max(1, iquery));
  lwork = static_cast<int>(work.size());
  liwork = static_cast<int>(iwork.size());
  dstemr_(&jobz, &range, &n, d.data(), e.data(), &vl, &vu, &il, &iu, &found, w.data(), z.data_ptr<double>(), &n,
          &k, isuppz.data(), &tryrac, work.data(), &lwork, iwork.data(), &liwork, &info, 1, 1);
  lapack_check_info(info, "dstemr");
  REVIVE_CHECK(found == k, "lapack::top_eigenpairs: dstemr found " + std::to_string(found) + " of " +
                               std::to_string(k) + " eigenpairs");

  // Back to the original basis: Z <- Q Z, Q from dsytrd's reflectors.
  const char left = 'L', no_trans = 'N';
  lwork = -1;
  dormtr_(&left, &lower, &no_trans, &n, &k, a.data_ptr<double>(), &n, tau.data(), z.data_ptr<double>(), &n, &query,
          &lwork, &info, 1, 1, 1);
  lapack_check_info(info, "dormtr (workspace query)");
  work.assign(lapack_work_size(query), 0.0);
  lwork = static_cast<int>(work.size());
  dormtr_(&left, &lower, &no_trans, &n, &k, a.data_ptr<double>(), &n, tau.data(), z.data_ptr<double>(), &n,
          work.data(), &lwork, &info, 1, 1, 1);
  lapack_check_info(info, "dormtr");

  at::Tensor vals = at::from_blob(w.data(), {k}, at::kDouble).flip(0).clone();
  at::Tensor vecs = z.t().flip(1).contiguous();  // [n, k], largest first
  return {vals, vecs};
}

}  // namespace revive::spectral::lapack
