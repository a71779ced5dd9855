import numpy as np
# NIDS on the DESIGN.md setting: exact spectral radius vs candidate separated-rate bounds (sqrt, since bounds are on squared norms)
def ring(n, w=1/3):
    W=np.zeros((n,n))
    for i in range(n):
        W[i,i]=1-2*w; W[i,(i+1)%n]=w; W[i,(i-1)%n]=w
    return W
n=16; W=ring(n); ev=np.sort(np.linalg.eigvalsh(W)); l2, ln = ev[-2], ev[0]
mu,L=1.0,10.0; a=1/L
# worst separable case: every mode pairs with h in {mu, L}
worst=0
for lam in ev[:-1]:
    w=(1+lam)/2
    for h in np.linspace(mu,L,200):
        r=max(abs(np.roots([1,-w*(2-a*h),w*(1-a*h)]))); worst=max(worst,r)
print("NIDS exact worst-mode radius (separable, alpha=1/L):",worst)
print(" sqrt(max(1-a mu(2-aL), 1-(1-l2)/2))        =",np.sqrt(max(1-a*mu*(2-a*L),1-(1-l2)/2)))
print(" sqrt(max(1-a mu(2-aL), 1-(1-l2)/(1-ln)))   =",np.sqrt(max(1-a*mu*(2-a*L),1-(1-l2)/(1-ln))))
