import numpy as np
def ring(n, w=1/3):
    W=np.zeros((n,n))
    for i in range(n):
        W[i,i]=1-2*w; W[i,(i+1)%n]=w; W[i,(i-1)%n]=w
    return W
def rho_extra(W,H,a):
    n=W.shape[0]; I=np.eye(n); Wt=(I+W)/2
    A=np.block([[I+W-a*H, -(Wt-a*H)],[I,np.zeros((n,n))]])
    ev=np.linalg.eigvals(A); ev=ev[np.argsort(-abs(ev))]
    return ev
def rho_nids(W,H,a):
    n=W.shape[0]; I=np.eye(n); Wt=(I+W)/2
    A=np.block([[Wt@(2*I-a*H), -Wt@(I-a*H)],[I,np.zeros((n,n))]])
    ev=np.linalg.eigvals(A); return ev[np.argsort(-abs(ev))]
def second(ev):  # drop the one eigenvalue =1 (consensus/ mean of dual) -- take largest with |1-ev|>1e-9
    e=[x for x in ev if abs(x-1)>1e-7]; return abs(e[0])
def max_stable(f,W,H,hi):
    lo=0;
    for _ in range(50):
        m=(lo+hi)/2
        if second(f(W,H,m))<1-1e-12: lo=m
        else: hi=m
    return lo
n=16
for w in [1/3, 0.5]:
    W=ring(n,w); lmin=np.linalg.eigvalsh(W).min(); L=10.0
    H=L*np.eye(n)
    print(f"ring w={w:.3f} lam_min={lmin:.4f}")
    print("  EXTRA H=LI max stable a*L:", max_stable(rho_extra,W,H,3/L)*L, " (5+3lmin)/4=",(5+3*lmin)/4, " (1+lmin)=",1+lmin)
    print("  NIDS  H=LI max stable a*L:", max_stable(rho_nids,W,H,3/L)*L)
    rng=np.random.default_rng(1)
    hs=np.concatenate([[1.0,L],rng.uniform(1,L,n-2)]); rng.shuffle(hs); H=np.diag(hs)
    print("  EXTRA hetero diag H in [1,L]:", max_stable(rho_extra,W,H,3/L)*L)
    print("  NIDS  hetero:", max_stable(rho_nids,W,H,3/L)*L)
    # DGD
    def rdgd(a): return max(abs(np.linalg.eigvals(W-a*np.diag(hs))))
    lo,hi=0,3/L
    for _ in range(50):
        m=(lo+hi)/2
        if rdgd(m)<1: lo=m
        else: hi=m
    print("  DGD hetero max a*L:",lo*L," (1+lam_n)=",1+lmin)
# rates at alpha=0.5/L EXTRA, 1/L NIDS for DESIGN.md numbers
W=ring(16,1/3); mu=1.0; L=10.0
rng=np.random.default_rng(0)
